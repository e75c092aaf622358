# Training cost against accuracy
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 1100,520 font "sans,10"
set encoding utf8
$flops0 << EOD
45.124295999999994 90.66666666666667 2.1617800330607294e-14 7.985385511444111
EOD
$wall0 << EOD
0.49661400000000006 90.66666666666667 0.054414368729428564 7.985385511444111
EOD
$flops1 << EOD
309.6173904 92.33333333333333 0.0 11.473740612665214
EOD
$wall1 << EOD
3.362178 92.33333333333333 0.5728542219535129 11.473740612665214
EOD
set multiplot layout 1,2 title "Training cost against accuracy"
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
