# Training cost against accuracy, data.checkpoint = mobilenetv2
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 1100,520 font "sans,10"
set encoding utf8
$flops0 << EOD
133.43010559999996 98.4 2.1431457855652562e-14 1.0637217946701436
EOD
$wall0 << EOD
2.8089796999999996 98.4 0.16471321781921286 1.0637217946701436
EOD
$flops1 << EOD
1084.2054719999999 98.35 1.714516628452205e-13 1.470402155818832
EOD
$wall1 << EOD
25.828070000000004 98.35 1.8326934199439828 1.470402155818832
EOD
set multiplot layout 1,2 title "Training cost against accuracy, data.checkpoint = mobilenetv2"
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
