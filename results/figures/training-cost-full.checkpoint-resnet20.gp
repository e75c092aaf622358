# Training cost against accuracy (full scale), data.checkpoint = resnet20
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 1100,520 font "sans,10"
set encoding utf8
$flops0 << EOD
256.11537920000035 97.71666666666667 8.884879064827603e-14 0.7714592636750551
EOD
$wall0 << EOD
3.0478115999999984 97.71666666666667 0.05569104244990062 0.7714592636750551
EOD
$flops1 << EOD
1498.0353599999992 97.625 2.369301083954027e-13 0.7871552989646973
EOD
$wall1 << EOD
29.15599405 97.625 4.269606035049443 0.7871552989646973
EOD
set multiplot layout 1,2 title "Training cost against accuracy (full scale), data.checkpoint = resnet20"
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
