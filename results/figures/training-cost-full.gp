# Training cost against accuracy (full scale)
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 1100,520 font "sans,10"
set encoding utf8
$flops0 << EOD
259.01606800000036 96.78333333333333 8.884879064827603e-14 0.8076313236541617
EOD
$wall0 << EOD
4.629355783333334 96.78333333333333 0.10697326840546187 0.8076313236541617
EOD
$flops1 << EOD
1523.0611560000002 97.61666666666666 5.923252709885068e-14 0.7920762891702862
EOD
$wall1 << EOD
25.386564500000002 97.61666666666666 0.3993423078366812 0.7920762891702862
EOD
set multiplot layout 1,2 title "Training cost against accuracy (full scale)"
set grid
set ylabel "test accuracy (%)"
set yrange [*:100]
set key outside bottom center horizontal
set bmargin 7
set logscale x
set offsets graph 0.15, graph 0.15, graph 0.15, graph 0.15
set title "training FLOPs per user"
set xlabel "training cost (GFLOPs per user, log scale)"
plot $flops0 using 1:2:3:4 with xyerrorbars pointtype 7 pointsize 1.5 linewidth 2 title "exit personalisation", \
     $flops1 using 1:2:3:4 with xyerrorbars pointtype 5 pointsize 1.5 linewidth 2 title "whole-network fine-tuning"
set title "measured wall time per user"
set xlabel "training wall time (s per user, log scale)"
plot $wall0 using 1:2:3:4 with xyerrorbars pointtype 7 pointsize 1.5 linewidth 2 title "exit personalisation", \
     $wall1 using 1:2:3:4 with xyerrorbars pointtype 5 pointsize 1.5 linewidth 2 title "whole-network fine-tuning"
unset multiplot
